"""Network: a VPC with two private subnets in two AZs, a task security group without ingress, and endpoints.

The subnets have no route to the internet. The job reaches S3 through a gateway endpoint and, when
``interface_endpoints`` is on, ECR, CloudWatch Logs and SSM through interface endpoints, so a Fargate task
in a private subnet can pull its image, log, and read its configuration without a NAT gateway.
With ``existing_vpc_id`` the VPC and subnets come from config and only the security group is created.
``public_subnets`` adds two public subnets (upper half of the CIDR) with an internet gateway, for an
internet-facing load balancer only: the batch tasks stay in the private subnets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from troposphere import GetAZs, Join, Ref, Select, Sub, Tags, Template, ec2

from blueprints.common import new_template
from blueprints.outputs import Key, Outputs

INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "logs", "ssm")


class NetworkOutputs(Outputs):
    """Outputs of the network stack."""

    vpc_id = Key("VPC the tasks run in")
    subnet_ids = Key("private subnets of the tasks, comma-separated")
    task_security_group_id = Key("security group of the tasks")
    public_subnet_ids = Key("public subnets for internet-facing load balancers, comma-separated", required=False)


@dataclass(frozen=True)
class NetworkProps:
    """Inputs of the network blueprint."""

    name: str  # tag prefix, e.g. ds-dev
    cidr: str = "10.40.0.0/16"
    existing_vpc_id: str | None = None
    existing_subnet_ids: tuple[str, ...] = ()
    interface_endpoints: bool = True
    public_subnets: bool = False
    existing_public_subnet_ids: tuple[str, ...] = ()


def _subnet_cidrs(cidr: str) -> tuple[str, str]:
    # Two /(n+2) blocks leave the upper half of the VPC free for later subnets.
    blocks = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=2))
    return str(blocks[0]), str(blocks[1])


def _public_cidrs(cidr: str) -> tuple[str, str]:
    # The upper half's first two /(n+3) blocks; the private subnets keep the lower half.
    blocks = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=3))
    return str(blocks[4]), str(blocks[5])


def _public_subnets(template: Template, props: NetworkProps, vpc_id: object) -> list[object]:
    gateway = template.add_resource(ec2.InternetGateway("InternetGateway", Tags=Tags(Name=props.name)))
    attachment = template.add_resource(ec2.VPCGatewayAttachment(
        "InternetGatewayAttachment", VpcId=vpc_id, InternetGatewayId=Ref(gateway)))
    table = template.add_resource(ec2.RouteTable(
        "PublicRouteTable", VpcId=vpc_id, Tags=Tags(Name=f"{props.name}-public")))
    template.add_resource(ec2.Route(
        "PublicDefaultRoute", RouteTableId=Ref(table), DestinationCidrBlock="0.0.0.0/0", GatewayId=Ref(gateway),
        DependsOn=[attachment.title]))
    subnets: list[object] = []
    for index, (suffix, cidr) in enumerate(zip("AB", _public_cidrs(props.cidr), strict=True)):
        subnet = template.add_resource(ec2.Subnet(
            f"PublicSubnet{suffix}", VpcId=vpc_id, CidrBlock=cidr, MapPublicIpOnLaunch=False,
            AvailabilityZone=Select(index, GetAZs("")), Tags=Tags(Name=f"{props.name}-public-{suffix.lower()}")))
        template.add_resource(ec2.SubnetRouteTableAssociation(
            f"PublicSubnet{suffix}RouteTable", SubnetId=Ref(subnet), RouteTableId=Ref(table)))
        subnets.append(Ref(subnet))
    return subnets


def build(props: NetworkProps) -> Template:
    """Render the network template."""
    template = new_template("network (VPC, private subnets, task security group, endpoints)")
    if props.existing_vpc_id:
        vpc_id: object = props.existing_vpc_id
        subnet_ids: list[object] = list(props.existing_subnet_ids)
    else:
        vpc = template.add_resource(ec2.VPC(
            "Vpc", CidrBlock=props.cidr, EnableDnsSupport=True, EnableDnsHostnames=True,
            Tags=Tags(Name=props.name)))
        vpc_id = Ref(vpc)
        route_table = template.add_resource(ec2.RouteTable(
            "PrivateRouteTable", VpcId=vpc_id, Tags=Tags(Name=f"{props.name}-private")))
        subnet_ids = []
        for index, (suffix, cidr) in enumerate(zip("AB", _subnet_cidrs(props.cidr), strict=True)):
            subnet = template.add_resource(ec2.Subnet(
                f"PrivateSubnet{suffix}", VpcId=vpc_id, CidrBlock=cidr, MapPublicIpOnLaunch=False,
                AvailabilityZone=Select(index, GetAZs("")), Tags=Tags(Name=f"{props.name}-private-{suffix.lower()}")))
            template.add_resource(ec2.SubnetRouteTableAssociation(
                f"PrivateSubnet{suffix}RouteTable", SubnetId=Ref(subnet), RouteTableId=Ref(route_table)))
            subnet_ids.append(Ref(subnet))
        template.add_resource(ec2.VPCEndpoint(
            "S3GatewayEndpoint", VpcId=vpc_id, VpcEndpointType="Gateway",
            ServiceName=Sub("com.amazonaws.${AWS::Region}.s3"), RouteTableIds=[Ref(route_table)]))
    public_ids: list[object] = list(props.existing_public_subnet_ids)
    if props.public_subnets and not props.existing_vpc_id:
        public_ids = _public_subnets(template, props, vpc_id)
    task_sg = template.add_resource(ec2.SecurityGroup(
        "TaskSecurityGroup", VpcId=vpc_id, GroupDescription=f"{props.name} batch tasks: no ingress, HTTPS out",
        SecurityGroupEgress=[ec2.SecurityGroupRule(
            IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0", Description="HTTPS to AWS APIs")],
        Tags=Tags(Name=f"{props.name}-tasks")))
    if props.interface_endpoints and not props.existing_vpc_id:
        endpoint_sg = template.add_resource(ec2.SecurityGroup(
            "EndpointSecurityGroup", VpcId=vpc_id, GroupDescription=f"{props.name} interface endpoints",
            SecurityGroupIngress=[ec2.SecurityGroupRule(
                IpProtocol="tcp", FromPort=443, ToPort=443, SourceSecurityGroupId=Ref(task_sg),
                Description="HTTPS from batch tasks")],
            Tags=Tags(Name=f"{props.name}-endpoints")))
        for service in INTERFACE_SERVICES:
            logical = "".join(part.capitalize() for part in service.split(".")) + "Endpoint"
            template.add_resource(ec2.VPCEndpoint(
                logical, VpcId=vpc_id, VpcEndpointType="Interface", PrivateDnsEnabled=True,
                ServiceName=Sub(f"com.amazonaws.${{AWS::Region}}.{service}"), SubnetIds=subnet_ids,
                SecurityGroupIds=[Ref(endpoint_sg)]))
    NetworkOutputs.vpc_id.emit(template, vpc_id)
    NetworkOutputs.subnet_ids.emit(template, Join(",", subnet_ids))
    NetworkOutputs.task_security_group_id.emit(template, Ref(task_sg))
    if public_ids:
        NetworkOutputs.public_subnet_ids.emit(template, Join(",", public_ids))
    return template
