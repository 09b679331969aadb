"""plux plugins for the ELBv2 resource types (kept apart from plugins.py: the local ALB is its own feature)."""

from __future__ import annotations

from dsplatform_localstack.cfn.plugins import _Plugin


class LoadBalancerPlugin(_Plugin):
    """AWS::ElasticLoadBalancingV2::LoadBalancer."""

    name = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    _module, _class = "dsplatform_localstack.cfn.elbv2_loadbalancer", "LoadBalancerProvider"


class TargetGroupPlugin(_Plugin):
    """AWS::ElasticLoadBalancingV2::TargetGroup."""

    name = "AWS::ElasticLoadBalancingV2::TargetGroup"
    _module, _class = "dsplatform_localstack.cfn.elbv2_targetgroup", "TargetGroupProvider"


class ListenerPlugin(_Plugin):
    """AWS::ElasticLoadBalancingV2::Listener."""

    name = "AWS::ElasticLoadBalancingV2::Listener"
    _module, _class = "dsplatform_localstack.cfn.elbv2_listener", "ListenerProvider"


class ListenerRulePlugin(_Plugin):
    """AWS::ElasticLoadBalancingV2::ListenerRule."""

    name = "AWS::ElasticLoadBalancingV2::ListenerRule"
    _module, _class = "dsplatform_localstack.cfn.elbv2_listener", "ListenerRuleProvider"


ALL = (LoadBalancerPlugin, TargetGroupPlugin, ListenerPlugin, ListenerRulePlugin)
