"""End-to-end scenarios of the api component: real HTTP through the load balancer (the local ALB on LocalStack)."""
