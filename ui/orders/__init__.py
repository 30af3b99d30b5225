"""Orders and prescriptions in the chart: tables, forms, printing."""
