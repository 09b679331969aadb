"""The probe's scenario: the deployed parameter holds the release of this checkout (read through typed outputs)."""

import pytest
import yaml
from probe_infra.probe import ProbeOutputs


@pytest.mark.smoke
def test_the_deployed_release_is_this_checkouts(ds_deployed, ds_clients):
    name = ds_deployed.get(ProbeOutputs).parameter_name
    value = ds_clients.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    with open("dsplatform.yml", encoding="utf-8") as handle:
        assert value == yaml.safe_load(handle)["project"]["tags"]["release"]
