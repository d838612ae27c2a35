"""The zh and en catalogs must have the same keys and the same placeholders."""

from snowbot.text.texts import catalog, placeholders


def test_catalogs_agree_key_by_key() -> None:
    zh, en = catalog("zh"), catalog("en")
    assert set(zh.texts) == set(en.texts)
    for key in zh.texts:
        assert placeholders(zh.texts[key]) == placeholders(en.texts[key]), key


def test_chinese_is_the_default_and_buttons_say_accept_and_done() -> None:
    assert catalog("xx").language == "zh"
    assert "Accept" in catalog("en")("button.accept")
    assert "Done" in catalog("en")("button.done")
