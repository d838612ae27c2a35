# The two commands of the README: `make demo` and `make test`. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint typecheck install clean vendor

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy snowbot handlers storage web

test: lint typecheck
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/snowbot demo

# The overview's charts and map (web/static/vendor/, committed): packages from the npm registry
# at these versions, with their licences. Run it only to change a version; nothing is fetched
# at run time.
ECHARTS := 6.1.0
LEAFLET := 1.9.4
VENDOR := web/static/vendor
vendor:
	rm -rf $(VENDOR).new && mkdir -p $(VENDOR).new/echarts $(VENDOR).new/leaflet
	cd $(VENDOR).new && npm pack --silent echarts@$(ECHARTS) leaflet@$(LEAFLET) >/dev/null
	tar -xzf $(VENDOR).new/echarts-$(ECHARTS).tgz -C $(VENDOR).new/echarts --strip-components=1 \
		package/dist/echarts.min.js package/LICENSE package/NOTICE
	tar -xzf $(VENDOR).new/leaflet-$(LEAFLET).tgz -C $(VENDOR).new/leaflet --strip-components=1 \
		package/dist/leaflet.js package/dist/leaflet.css package/LICENSE
	mv $(VENDOR).new/echarts/dist/echarts.min.js $(VENDOR).new/echarts/
	mv $(VENDOR).new/leaflet/dist/leaflet.js $(VENDOR).new/leaflet/dist/leaflet.css $(VENDOR).new/leaflet/
	rm -rf $(VENDOR).new/echarts/dist $(VENDOR).new/leaflet/dist $(VENDOR).new/*.tgz
	printf 'echarts %s\nleaflet %s\n' $(ECHARTS) $(LEAFLET) > $(VENDOR).new/VERSIONS
	rm -rf $(VENDOR) && mv $(VENDOR).new $(VENDOR)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
