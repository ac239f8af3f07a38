"""The CSV/XLSX lists officials exchange, read within bounded work."""
