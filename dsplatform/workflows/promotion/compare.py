"""The promotion rule: a record vouches for a checkout when the checkout renders exactly what the record holds.

Templates differ between environments (names, account ids, settings), so a source's templates can never
equal a target's. Instead, a passing e2e run records how the tested checkout renders *every* configured
environment. Promotion re-renders the target (and the source) from the current checkout and requires
both to equal the record's renderings of the same environments, and the job image's source digest to
equal the tested one. Any difference (blueprint code, config of either environment, image source) means
the thing being promoted is not the thing that passed, and is listed.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsplatform.workflows.promotion.record import Record, Rendering


def rendering_differences(label: str, recorded: Rendering | None, current: Rendering) -> list[str]:
    """Lines describing how ``current`` differs from ``recorded`` (empty: identical)."""
    if recorded is None:
        return [f"{label}: the passing run did not render environment {current.env}"]
    if recorded.error:
        return [f"{label}: environment {current.env} did not render in the passing run ({recorded.error})"]
    if current.error:
        return [f"{label}: environment {current.env} does not render now ({current.error})"]
    if recorded.target_kind != current.target_kind:
        return [f"{label}: the passing run rendered {current.env} for target {recorded.target_kind}, "
                f"now it is {current.target_kind}"]
    lines: list[str] = []
    for component in sorted(set(recorded.stacks) | set(current.stacks)):
        was, now = recorded.stacks.get(component), current.stacks.get(component)
        if was is None and now is not None:
            lines.append(f"{label}: stack {now.stack} is new since the passing run")
        elif now is None and was is not None:
            lines.append(f"{label}: stack {was.stack} was removed since the passing run")
        elif was is not None and now is not None:
            if was.template_sha256 != now.template_sha256:
                lines.append(f"{label}: {now.stack} template changed "
                             f"(passed {was.template_sha256[:12]}, now {now.template_sha256[:12]})")
            if was.parameters_sha256 != now.parameters_sha256:
                lines.append(f"{label}: {now.stack} parameters changed")
    return lines


def image_differences(record: Record, source_digests: dict[str, str]) -> list[str]:
    """How the jobs' image sources now (job -> source digest) differ from the ones that passed."""
    passed = {image.job: image for image in record.images}
    lines = [f"image of job {job}: new since the passing run" for job in sorted(set(source_digests) - set(passed))]
    lines += [f"image of job {job}: no longer in the plan" for job in sorted(set(passed) - set(source_digests))]
    for job in sorted(set(passed) & set(source_digests)):
        if passed[job].source_digest != source_digests[job]:
            lines.append(f"image {passed[job].repository}: source changed "
                         f"(passed {passed[job].source_digest[:19]}, now {source_digests[job][:19]})")
    return lines


def differences(record: Record, source_now: Rendering, target_now: Rendering,
                source_digests: dict[str, str]) -> list[str]:
    """Everything that keeps ``record`` from vouching for promoting the current checkout (empty: it does)."""
    lines: list[str] = []
    if record.kind != "e2e" or not record.passed:
        lines.append(f"record is a {record.kind!r} record with passed={record.passed}, not a passing e2e run")
    lines += rendering_differences("tested", record.renderings.get(source_now.env), source_now)
    lines += rendering_differences("promoted", record.renderings.get(target_now.env), target_now)
    lines += image_differences(record, source_digests)
    return lines


@dataclass(frozen=True)
class Verdict:
    """The record that vouches for the checkout (key, record), or why none does (problems)."""

    key: str | None
    record: Record | None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when a record vouches for the checkout."""
        return self.record is not None


def find_evidence(
    records: list[tuple[str, Record]], source_now: Rendering, target_now: Rendering, source_digests: dict[str, str]
) -> Verdict:
    """The newest record that vouches for the checkout, else the differences from the newest record."""
    for key, record in records:
        if not differences(record, source_now, target_now, source_digests):
            return Verdict(key, record)
    if not records:
        return Verdict(None, None, ("no passing e2e record at all",))
    return Verdict(None, None, tuple(differences(records[0][1], source_now, target_now, source_digests)))
