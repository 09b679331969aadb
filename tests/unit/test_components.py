"""The component model: typed outputs, stock discovery, a consumer's plug-ins, selection and ordering."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from troposphere import Output, Ref, Template, sqs

from blueprints.outputs import Key, Outputs, output_key
from dsplatform.components import Component, Image, stock_components
from dsplatform.components.discovery import order
from dsplatform.config import load_config
from dsplatform.errors import ComponentError, ConfigError, UsageError
from dsplatform.synth import plan_from_config

STOCK = ("network", "storage", "registry", "alerts", "parameters", "compute", "orchestration", "schedule",
         "monitoring", "ingest")


class QueueOutputs(Outputs):
    queue_url = Key("queue URL")
    queue_arn = Key("queue ARN", required=False)


def _queue(props: str) -> Template:
    template = Template()
    queue = template.add_resource(sqs.Queue("Queue", QueueName=props))
    QueueOutputs.queue_url.emit(template, Ref(queue))
    return template


def test_output_keys_are_the_pascal_case_fields() -> None:
    assert output_key("task_definition_arn") == "TaskDefinitionArn"
    assert QueueOutputs.queue_url.name == "QueueUrl"
    assert QueueOutputs.key_names() == ("QueueUrl", "QueueArn")
    assert QueueOutputs.required_names() == ("QueueUrl",)
    typed = QueueOutputs.read({"QueueUrl": "https://q", "Other": "x"})
    assert typed.queue_url == "https://q" and typed.queue_arn == ""
    with pytest.raises(KeyError, match="QueueUrl"):
        QueueOutputs.read({"QueueArn": "arn"})


def test_a_blueprint_that_spells_an_undeclared_output_is_refused() -> None:
    def sneaky(props: str) -> Template:
        template = _queue(props)
        template.add_output(Output("HandTypedKey", Value="x"))
        return template

    component = Component("queue", sneaky, lambda ctx: "q", QueueOutputs)
    with pytest.raises(ComponentError, match="HandTypedKey"):
        component.render(None)  # type: ignore[arg-type]


def test_every_stock_component_is_found_with_its_outputs_class() -> None:
    found = stock_components()
    assert set(found) == set(STOCK)
    names = list(found)
    for comp in found.values():
        assert issubclass(comp.outputs, Outputs), comp.name
        for dep in comp.depends_on:
            assert names.index(dep) < names.index(comp.name), (dep, comp.name)
    assert [i.job for i in found["compute"].images] == ["preprocessing"]


def test_order_puts_dependencies_first_and_names_a_cycle() -> None:
    a = Component("a", _queue, str, QueueOutputs, ("b",))
    b = Component("b", _queue, str, QueueOutputs)
    assert [c.name for c in order([a, b])] == ["b", "a"]
    with pytest.raises(ComponentError, match="a -> b -> a"):
        order([a, Component("b", _queue, str, QueueOutputs, ("a",))])


def _project(tmp_path: Path, extra: str = "", module: str | None = None) -> Path:
    if module is not None:
        pkg = tmp_path / "team_infra"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "queue.py").write_text(textwrap.dedent(module))
    config = tmp_path / "dsplatform.yml"
    config.write_text(textwrap.dedent("""
        project: {name: ml}
        environments:
          qa: {account_id: "444444444444", target: localstack}
        """) + textwrap.dedent(extra))
    return config


QUEUE_MODULE = '''
    from troposphere import Output, Ref, Template, sqs
    from blueprints.outputs import Key, Outputs
    from dsplatform.components import Component, Image


    class QueueOutputs(Outputs):
        queue_url = Key("queue URL")


    def build(name):
        t = Template()
        q = t.add_resource(sqs.Queue("Queue", QueueName=name))
        QueueOutputs.queue_url.emit(t, Ref(q))
        return t


    QUEUE = Component("queue", build, lambda ctx: ctx.names.repository("enrich"), QueueOutputs,
                      depends_on=("storage",), images=(Image("enrich"),), scenarios="scenarios/queue")
    '''


def test_a_consumer_component_from_an_import_path_joins_the_plan(tmp_path: Path) -> None:
    config = _project(tmp_path, 'components: {plugins: ["team_infra.queue:QUEUE"]}\n', QUEUE_MODULE)
    plan = plan_from_config(load_config(config), "qa")
    assert [s.component for s in plan.stacks][-1] == "queue"
    queue = plan.stack("ml-qa-queue")
    assert queue.depends_on == ("ml-qa-storage",) and queue.tags["dsplatform:component"] == "queue"
    assert queue.template["Resources"]["Queue"]["Properties"]["QueueName"] == "ml-enrich"
    enrich = next(i for i in plan.images if i.job == "enrich")
    assert enrich.repository == "ml-enrich" and enrich.source == (tmp_path / "containers" / "enrich").resolve()
    assert ("queue", "scenarios/queue") in plan.scenarios
    assert plan.project_root == tmp_path.resolve()


def test_two_projects_in_one_process_each_load_their_own_same_named_package(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    plan_from_config(load_config(_project(first, 'components: {plugins: ["team_infra.queue:QUEUE"]}\n',
                                          QUEUE_MODULE)), "qa")
    other = QUEUE_MODULE.replace("lambda ctx: ctx.names.repository(\"enrich\")", "lambda ctx: \"second-q\"")
    plan = plan_from_config(load_config(_project(second, 'components: {plugins: ["team_infra.queue:QUEUE"]}\n',
                                                 other)), "qa")
    queue = plan.stack("ml-qa-queue").template["Resources"]["Queue"]["Properties"]
    assert queue["QueueName"] == "second-q"


def test_selecting_stock_components_and_stacks(tmp_path: Path) -> None:
    config = _project(tmp_path, "components: {stock: [storage, registry, parameters]}\n")
    plan = plan_from_config(load_config(config), "qa")
    assert [s.component for s in plan.stacks] == ["storage", "registry", "parameters"]
    assert plan.images == ()  # compute owns the job image and is not selected
    (tmp_path / "all").mkdir()
    full = plan_from_config(load_config(_project(tmp_path / "all")), "qa", stacks=["schedule"])
    assert {s.component for s in full.stacks} == {"schedule", "orchestration", "compute", "network", "alerts",
                                                  "storage", "registry", "parameters"}
    assert "ml-qa-monitoring" in full.all_stacks and "ml-qa-monitoring" not in {s.name for s in full.stacks}
    with pytest.raises(UsageError, match="'nope' is not a stack or component of qa"):
        plan_from_config(load_config(config), "qa", stacks=["nope"])


BRINGING_MODULE = QUEUE_MODULE + '''
    DLQ = Component("dlq", build, lambda ctx: "ml-dlq", QueueOutputs)
    STOCKLIKE = Component("registry", build, lambda ctx: "not-the-stock-one", QueueOutputs)
    MAIN = Component("main", build, lambda ctx: "ml-main", QueueOutputs, depends_on=("dlq", "registry"),
                     brings=(DLQ, STOCKLIKE))
    '''


@pytest.mark.parametrize("plugins", [
    '["team_bring:MAIN"]', '["team_bring:MAIN", "team_bring:DLQ"]', '["team_bring:DLQ", "team_bring:MAIN"]',
])
def test_a_plug_in_brings_what_it_cannot_work_without_once(tmp_path: Path, plugins: str) -> None:
    config = _project(tmp_path, f"components: {{plugins: {plugins}}}\n")
    (tmp_path / "team_bring.py").write_text(textwrap.dedent(BRINGING_MODULE))
    sys.modules.pop("team_bring", None)  # each case imports its own copy from its own tmp_path
    plan = plan_from_config(load_config(config), "qa")
    names = [s.component for s in plan.stacks]
    assert names.count("dlq") == 1 and names.index("dlq") < names.index("main")
    # A brought component whose name is selected already (here the stock registry) is not added again.
    registry = plan.stack("ml-qa-registry").template["Resources"]
    assert names.count("registry") == 1 and "Repository" in registry


@pytest.mark.parametrize(("extra", "module", "message"), [
    ("components: {stock: [compute]}\n", None, "'compute' depends on 'storage', which is not selected"),
    ("components: {stock: [storage, nope]}\n", None, "components.stock: unknown component(s) nope"),
    ('components: {plugins: ["team_infra.absent:X"]}\n', None, "cannot import 'team_infra.absent'"),
    ('components: {plugins: ["not-an-entry-point"]}\n', None, "no installed entry point"),
    ('components: {plugins: ["team_infra.queue:build"]}\n', QUEUE_MODULE, "is function, not a"),
    ('components: {plugins: ["team_infra.queue:QUEUE", "team_infra.queue:QUEUE"]}\n', QUEUE_MODULE,
     "another component already uses"),
])
def test_bad_component_lists_are_one_line_errors(tmp_path: Path, extra: str, module: str | None,
                                                 message: str) -> None:
    config = _project(tmp_path, extra, module)
    with pytest.raises(ConfigError) as info:
        plan_from_config(load_config(config), "qa")
    assert len(info.value.problems) == 1 and message in info.value.problems[0]


def test_image_source_defaults_to_containers_under_the_project_root(tmp_path: Path) -> None:
    assert Image("enrich").source_dir(tmp_path) == (tmp_path / "containers" / "enrich").resolve()
    assert Image("enrich", source="jobs/e").source_dir(tmp_path) == (tmp_path / "jobs" / "e").resolve()


def test_a_stock_job_falls_back_to_the_shipped_source_and_a_project_copy_overrides_it(tmp_path: Path) -> None:
    shipped = Image("preprocessing", bundled=True).source_dir(tmp_path)
    # ./run installs dsplatform editable, so the shipped copy is this checkout's containers/ folder.
    assert shipped == (Path(__file__).resolve().parents[2] / "containers" / "preprocessing")
    own = tmp_path / "containers" / "preprocessing"
    own.mkdir(parents=True)
    (own / "Dockerfile").write_text("FROM python:3.11-slim\n")
    assert Image("preprocessing", bundled=True).source_dir(tmp_path) == own.resolve()
    assert Image("enrich").source_dir(tmp_path) == (tmp_path / "containers" / "enrich").resolve()  # no fallback


def test_the_api_component_runs_the_shipped_api_image_when_the_project_has_none(tmp_path: Path) -> None:
    from dsplatform.components.api import COMPONENT

    (image,) = COMPONENT.images
    assert image.source_dir(tmp_path) == Path(__file__).resolve().parents[2] / "containers" / "api"
