"""The local stack: template.yaml deployed into an embedded moto server, with the pieces that
moto leaves out (running Lambda code without Docker, API Gateway, EventBridge schedules)."""
