"""Classroom tools: batch grading of a folder of submissions, an nbgrader course built from the same
solution files, and a Gradescope autograder bundle. Scores always come from the isolated runner."""
