"""Shopping, interviews and doing nothing."""

from __future__ import annotations

from oasis_des.platform.state import ActionFailed, Outcome, PlatformState


class MiscActions(PlatformState):
    _interviews: int

    def _act_do_nothing(self, uid: int) -> Outcome:
        return {}, {}

    def _act_purchase_product(self, uid: int, product_name: str, purchase_num: int) -> Outcome:
        row = self.connection.execute(
            "SELECT product_id FROM product WHERE product_name = ? ORDER BY product_id LIMIT 1",
            (product_name,),
        ).fetchone()
        if row is None:
            raise ActionFailed("No such product.")
        if purchase_num <= 0:
            raise ActionFailed(f"purchase_num must be a positive integer, got {purchase_num}.")
        self.connection.execute(
            "UPDATE product SET sales = sales + ? WHERE product_id = ?", (purchase_num, row[0])
        )
        return (
            {"product_id": row[0]},
            {"product_name": product_name, "purchase_num": purchase_num},
        )

    def _act_interview(self, uid: int, prompt: str, response: str | None = None) -> Outcome:
        self._interviews += 1
        iid = self._interviews
        info: dict[str, object] = {"prompt": prompt}
        if response is not None:
            info["response"] = response
        info["interview_id"] = iid
        return {"interview_id": iid}, info
