"""The invoke task collection; another repo's ``tasks.py`` reuses it with ``from dsplatform.tasks import ns``.

A repo with its own configuration file passes ``--config PATH`` or keeps ``dsplatform.yml`` at its root.
"""

from invoke import Collection

from dsplatform.tasks import synth_tasks

ns = Collection()
ns.add_task(synth_tasks.synth)
ns.add_task(synth_tasks.lint)
