"""The labs' checks: one folder of pytest checks per lab (the rubric lives beside each check)."""
