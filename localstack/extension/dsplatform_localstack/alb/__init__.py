"""A local Application Load Balancer and ECS service scheduler: ELBv2 via moto, real listeners, health checks."""
