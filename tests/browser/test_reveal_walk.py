"""In the browser: the housing center clicks 显示 beside a masked ID number and sees it in full."""
from tests.browser.test_login import login


def test_the_center_reveals_a_legal_representatives_id_number(new_page, factory):
    id_number = factory.person_id()
    enterprise = factory.enterprise(name="乾元物业", legal_rep_name="向东", legal_rep_id_number=id_number)
    factory.user("housing_center", username="zhubao")
    page = new_page()
    login(page, "zhubao")
    page.goto(f"/enterprises/{enterprise.id}")
    assert id_number not in page.content()
    page.get_by_test_id("reveal-id_number").click()
    assert page.get_by_test_id("revealed").inner_text() == id_number
