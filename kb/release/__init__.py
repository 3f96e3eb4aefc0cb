"""Public database -> the open dataset (CSV, SQLite, spreadsheet, Data Package, DCAT-AP_IT,
citation files, zip).
"""
