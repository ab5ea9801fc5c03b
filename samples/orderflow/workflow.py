"""The seed's order workflow, built with polyfn.workflow's builder.

ValidateOrder → CheckInventory → InStock? ─ no → OutOfStock (Fail)
                                         └ yes → ReserveInventory → ChargePayment
ChargePayment retries PaymentGatewayTimeout (3 attempts, backoff 2); any failure left
(declined, or still timing out) is caught by the saga: ReleaseInventory → PaymentFailed.
Then ShipOrder → NotifyCustomer → OrderComplete (Succeed).
"""

from __future__ import annotations

from polyfn.workflow.builder import Choice, Fail, Retry, Succeed, Task, Workflow, path
from polyfn.workflow.patterns import saga


def order_workflow() -> Workflow:
    return Workflow(
        Task("ValidateOrder", function="validate_order"),
        Task("CheckInventory", function="check_inventory", result_path="$.inventory"),
        Choice("InStock?")
        .when(path("$.inventory.inStock").eq(True), next="ReserveInventory")
        .otherwise("OutOfStock"),
        *saga(
            [
                (
                    Task(
                        "ReserveInventory",
                        function="reserve_inventory",
                        result_path="$.reservation",
                    ),
                    Task("ReleaseInventory", function="release_inventory", result_path="$.release"),
                ),
                (
                    Task(
                        "ChargePayment",
                        function="charge_payment",
                        result_path="$.payment",
                        retry=[
                            Retry(
                                "PaymentGatewayTimeout",
                                interval_seconds=1,
                                max_attempts=3,
                                backoff_rate=2,
                            )
                        ],
                    ),
                    None,
                ),
            ],
            fail=Fail(
                "PaymentFailed", error="PaymentFailed", cause="The payment did not go through"
            ),
            next="ShipOrder",
        ),
        Task("ShipOrder", function="ship_order", result_path="$.shipment"),
        Task("NotifyCustomer", function="notify_customer", result_path="$.notification"),
        Succeed("OrderComplete"),
        Fail("OutOfStock", error="OutOfStock", cause="An item is out of stock"),
        comment="The order workflow: validate, inventory, payment with retry, ship, notify",
    )


if __name__ == "__main__":
    print(order_workflow().to_json())
