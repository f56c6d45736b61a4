"""The task bank and its graders (DESIGN.md, "Tasks, graders, reward"); docs/tasks.md.

    from appwright.tasks.bank import TaskBank           # the tasks: generated + bank/*.yaml
    from appwright.tasks.graders import Grader          # grade a bundle against a task

Layers: uses the runtime (to serve the bundle being graded) and nothing above it.
"""
