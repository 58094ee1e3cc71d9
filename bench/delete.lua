-- wrk script for scenario 11 (routes): the last route of the GitHub API set is
-- DELETE /user/keys/{id}.
wrk.method = "DELETE"
