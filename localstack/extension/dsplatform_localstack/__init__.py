"""dsplatform's LocalStack extension: a faithful local ECS/ECR and CloudFormation fixes, for host mode."""
