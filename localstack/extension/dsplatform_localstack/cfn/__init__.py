"""CloudFormation resource providers for the types the community runtime lacks (ECS, ECR)."""
