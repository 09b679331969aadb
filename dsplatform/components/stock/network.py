"""Stock component ``network``: the VPC, private subnets and security group the batch tasks run in."""

from __future__ import annotations

from blueprints import network
from dsplatform.components.model import Component, Context


def props(ctx: Context) -> network.NetworkProps:
    """Network props from ``settings.network``."""
    s = ctx.env.settings.network
    return network.NetworkProps(name=f"{ctx.names.project}-{ctx.env.name}", cidr=s.cidr, existing_vpc_id=s.vpc_id,
                                existing_subnet_ids=s.subnet_ids, interface_endpoints=s.interface_endpoints,
                                public_subnets=s.public_subnets, existing_public_subnet_ids=s.public_subnet_ids)


COMPONENT = Component("network", network.build, props, network.NetworkOutputs)
