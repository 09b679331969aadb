"""Entry point: ``python -m ds_serving serve`` (SageMaker runs the image with the argument ``serve``)."""

from __future__ import annotations

import logging
import sys

from ds_serving import config as config_mod
from ds_serving import model as model_mod
from ds_serving import server


def main(argv: list[str] | None = None) -> int:
    """Load the model and serve; exit 2 on a bad command or setting, 1 if the model cannot be loaded."""
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args != ["serve"]:
        print(f"ds_serving: unknown command {' '.join(args)!r}; the only command is `serve`", file=sys.stderr)
        return 2
    try:
        cfg = config_mod.from_env()
    except config_mod.ConfigError as err:
        print(f"ds_serving: {err}", file=sys.stderr)
        return 2
    try:
        loaded = model_mod.load(cfg.model_dir)
    except model_mod.ModelLoadError as err:
        print(f"ds_serving: {err}", file=sys.stderr)
        return 1
    server.serve(cfg, loaded)
    return 0


if __name__ == "__main__":
    sys.exit(main())
