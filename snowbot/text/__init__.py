"""Words: the catalogs, rendering results into localised text, the exports."""
