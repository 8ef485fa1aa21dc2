"""The page's token (Secrets Manager) and its URL (an SSM parameter), as the local stack keeps them.

Replaces: the API's execute-api URL, which a deploy writes into the parameter the functions read the
page's URL from; the local deployment leaves the API out (moto runs none), and the local gateway's
address goes there instead."""

from __future__ import annotations

from jobs_local.clients import StackClients


class PageSecrets:
    def __init__(self, clients: StackClients, token_secret: str, events_function: str):
        self.clients = clients
        self.token_secret = token_secret
        self.events_function = events_function

    def token(self, value: str | None = None) -> str:
        """The page's bearer token, from its secret; `value` replaces it first."""
        secrets = self.clients.client("secretsmanager")
        if value:
            secrets.put_secret_value(SecretId=self.token_secret, SecretString=value)
        return secrets.get_secret_value(SecretId=self.token_secret)["SecretString"]

    def serve_page_at(self, url: str) -> None:
        lambdas = self.clients.client("lambda")
        name = lambdas.get_function_configuration(FunctionName=self.events_function)["Environment"]["Variables"][
            "JOBS_PAGE_URL_PARAMETER"
        ]
        self.clients.client("ssm").put_parameter(Name=name, Value=url, Type="String", Overwrite=True)
