"""The source's unit tests: the pipeline's Test stage runs them (RESULT is rewritten to fail a release)."""

RESULT = True


def test_the_release_is_sound():
    assert RESULT, "a failing unit test (the scenario's broken release)"
