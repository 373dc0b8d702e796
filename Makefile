# The two commands of the README: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app engage
INSTALLED := $(VENV)/.installed

.PHONY: run test lint format translations-extract translations-update translations bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the declared dependencies change.
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

translations: $(INSTALLED)
	$(BIN)/pybabel compile --statistics -d translations

run: translations
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "Engage is running on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(FLASK) run --host 127.0.0.1 --port 5000

test: translations
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check engage tests bench
	$(BIN)/ruff format --check engage tests bench
	$(BIN)/lint-imports --no-cache

format: $(INSTALLED)
	$(BIN)/ruff check --fix engage tests bench
	$(BIN)/ruff format engage tests bench

translations-extract: $(INSTALLED)
	$(BIN)/pybabel extract --no-location --sort-by-file -F babel.cfg -k _l -k lazy_gettext \
		--msgid-bugs-address "" --project Engage -c "i18n:" --ignore-dirs ".*" \
		-o translations/messages.pot .

translations-update: translations-extract
	$(BIN)/pybabel update --no-fuzzy-matching -i translations/messages.pot -d translations

bench: $(INSTALLED)
	$(BIN)/python bench/markdown_corpus.py
	$(BIN)/python bench/idea_list.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/export.py

clean:
	rm -rf $(VENV) instance .pytest_cache
