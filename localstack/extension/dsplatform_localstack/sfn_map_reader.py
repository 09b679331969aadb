"""Distributed Map `ItemReader` over `s3:listObjectsV2`: every page is read, and an empty prefix gives no items.

The pinned runtime's reader (``item_reader/resource_eval/resource_eval_s3.py``) made one ListObjectsV2 call
and indexed its ``Contents``: a prefix with more than one page (1,000 keys, or ``MaxKeys``) lost every later
page, and a prefix with no object raised KeyError (the execution failed with States.Runtime). AWS lists the
whole prefix, and a Map over an empty prefix runs zero iterations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def all_contents(pages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every object of every ListObjectsV2 page, in order (a page without ``Contents`` adds nothing)."""
    return [obj for page in pages for obj in page.get("Contents") or []]


def install() -> None:
    """Replace the reader's listObjectsV2 handler with one that follows continuation tokens."""
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_map.item_reader.resource_eval import (  # noqa: E501
        resource_eval_s3,
    )
    from localstack.services.stepfunctions.asl.utils.boto_client import boto_client_for

    def _handle_list_objects_v2(env, resource_runtime_part, state_credentials):  # type: ignore[no-untyped-def]
        s3 = boto_client_for(service="s3", region=resource_runtime_part.region, state_credentials=state_credentials)
        parameters = env.stack.pop()
        # A MaxKeys parameter only sets the page size here: the paginator still walks every page, as AWS does.
        env.stack.append(all_contents(s3.get_paginator("list_objects_v2").paginate(**parameters)))

    resource_eval_s3.ResourceEvalS3._handle_list_objects_v2 = staticmethod(_handle_list_objects_v2)
