"""API Gateway: requests reach their functions (moto routes nothing to Lambda).

- `gateway`: the HTTP server; the token authorizer, the proxy integration, the 29 s timeout.
- `events`: a request as the proxy event a function receives.
- `access_logs`: the stage's access log lines (moto writes none).
"""
