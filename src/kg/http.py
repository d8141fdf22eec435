"""The HTTP side shared by `kg push` and `kg query --endpoint`: where credentials come from."""

USER_ENV = "KG_ENDPOINT_USER"
PASSWORD_ENV = "KG_ENDPOINT_PASSWORD"
TOKEN_ENV = "KG_ENDPOINT_TOKEN"
