"""Operators and messages of the demo process."""
from flask import current_app

from app.engine.registry import message, operator

message("demo.confirmed", "演示：确认")


@operator("demo.account_balance", "查询监管账户余额（演示）", params={"account_no": "监管账号"}, external=True)
def account_balance(ctx, account_no: str) -> dict:
    """Asks the custodian bank for an account's balance (an external call, so a worker job)."""
    from app.integrations.bank import client_from_config
    result = client_from_config(current_app.config).balance(account_no)
    return {"balance": str(result.get("balance"))}
