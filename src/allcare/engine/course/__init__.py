"""The course of the disease: treatment history, episodes (diagnosis, relapses) and their work-ups.

Built once per assessment from the case view (:func:`.build.build_course`) and
passed to the rule modules that need it: the diagnosis reads the initial
episode's work-up, a relapse is re-characterised from its own
(:func:`.describe.describe_course`). The package imports nothing on its own, so
that rule modules can use :mod:`.treatment` without import cycles.
"""
