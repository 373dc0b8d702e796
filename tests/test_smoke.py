def test_home_page_lists_open_challenge(client, make_challenge):
    make_challenge("open", title="Cleaner rivers")
    response = client.get("/")
    assert response.status_code == 200
    assert "Cleaner rivers" in response.get_data(as_text=True)
