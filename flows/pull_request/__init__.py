"""Digest -> pull request: the week's folder committed to its own branch and proposed on GitHub
(propose: git plumbing in git, GitHub's REST API in github, the body from a template in body),
and what the editor merged (covered papers, final picks, final text) read back (merged)."""

from flows.pull_request.body import pull_request_body
from flows.pull_request.git import in_git_repo
from flows.pull_request.merged import covered_on_main, draft_picks, merged_pages, merged_picks, merged_readmes, swaps
from flows.pull_request.propose import PullRequest, check_branch, open_pull_request, proposing
from flows.pull_request.sync import Synced, check_not_merged, sync

__all__ = ["PullRequest", "Synced", "check_branch", "check_not_merged", "covered_on_main", "draft_picks", "in_git_repo",
           "merged_pages", "merged_picks", "merged_readmes", "open_pull_request", "proposing", "pull_request_body", "swaps",
           "sync"]
