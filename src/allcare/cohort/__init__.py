"""Cohorts: synthetic case generation now; cohort analytics later."""
