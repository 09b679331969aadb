"""The delivery diagram is generated from config, and docs/delivery.md holds the current one."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsplatform.config import load_config
from dsplatform.delivery.diagram import END, START, mermaid, write_diagram
from dsplatform.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_docs_delivery_holds_the_diagram_of_the_config() -> None:
    text = (ROOT / "docs" / "delivery.md").read_text()
    block = text.split(START, 1)[1].split(END, 1)[0]
    assert block == f"\n```mermaid\n{mermaid(load_config(ROOT / 'dsplatform.yml'))}```\n", \
        "docs/delivery.md is stale: run `invoke ci.diagram`"


def test_the_diagram_follows_the_config() -> None:
    text = mermaid(load_config(ROOT / "dsplatform.yml"))
    assert "br_test -- OIDC, push --> gh_111111111111_us_east_1" in text  # test -> dev's account
    assert "br_main -- OIDC, push --> gh_222222222222_us_east_1" in text  # main -> stg's account
    assert "dispatch -- OIDC, approved --> gh_333333333333_us_east_1" in text
    assert "env_stg == evidence: e2e passed ==> env_prod" in text
    assert "env_prod -. reads artifacts of .-> env_stg" in text
    assert "gh_333333333333_us_east_1 -. reads evidence .-> dep_222222222222_us_east_1" in text


def test_a_doc_without_markers_is_refused_unchanged(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("# nothing here\n")
    with pytest.raises(UsageError, match="has no diagram markers"):
        write_diagram(load_config(ROOT / "dsplatform.yml"), doc)
    assert doc.read_text() == "# nothing here\n"


def test_a_missing_doc_is_one_usage_error_naming_the_flag(tmp_path: Path) -> None:
    # A consumer repo has no docs/delivery.md, the flag's default: one line, no traceback, nothing written.
    with pytest.raises(UsageError, match=r"^--doc '.*missing\.md': no such file; give a Markdown file holding"):
        write_diagram(load_config(ROOT / "dsplatform.yml"), tmp_path / "missing.md")
    assert list(tmp_path.iterdir()) == []


def test_docs_delivery_holds_the_pipeline_picture_of_the_config() -> None:
    from dsplatform.delivery.pipeline_diagram import END as P_END
    from dsplatform.delivery.pipeline_diagram import START as P_START
    from dsplatform.delivery.pipeline_diagram import pipeline_mermaid

    text = (ROOT / "docs" / "delivery.md").read_text()
    block = text.split(P_START, 1)[1].split(P_END, 1)[0]
    assert block == f"\n```mermaid\n{pipeline_mermaid(load_config(ROOT / 'dsplatform.yml'))}```\n", \
        "docs/delivery.md is stale: run `invoke ci.diagram`"


def test_the_pipeline_picture_follows_the_config() -> None:
    from dsplatform.config.loader import parse_config
    from dsplatform.delivery.pipeline_diagram import pipeline_mermaid

    base = ("delivery: {github: {repository: acme/ds}, pipeline: PIPE}\n"
            "environments: {tooling: {account_id: '444444444444'}, dev: {account_id: '111111111111'}, "
            "prod: {account_id: '333333333333'}}\n")
    plain = pipeline_mermaid(parse_config(base.replace("PIPE", "{deliver: dev, promote_to: prod}")))
    assert plain is not None and "appdev" not in plain and "account 444444444444, tooling" in plain
    assert 'promote -- assumes --> dep_prod["ds-deploy-us-east-1 (account 333333333333, prod)"]' in plain
    assert "invoke promote --from dev --to prod --yes --target aws" in plain
    gated = pipeline_mermaid(parse_config(base.replace("PIPE", "{deliver: dev, dev_approval: true}")))
    assert gated is not None and 'test --> appdev{{"approve dev (manual)"}}' in gated and "promote" not in gated
    assert pipeline_mermaid(parse_config(base.replace("pipeline: PIPE", "branches: {}"))) is None
