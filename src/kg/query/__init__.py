"""Queries: named query files, their parameters, the engines that run them, result formats."""
