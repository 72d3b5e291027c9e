"""Digest -> pull request: the week's folder committed to its own branch and proposed on GitHub,
and what the editor merged (covered papers, final picks, final text) read back."""

from flows.pull_request.github import (
                                       PullRequestSettings,
                                       check_branch,
                                       covered_on_main,
                                       draft_picks,
                                       in_git_repo,
                                       merged_picks,
                                       merged_readmes,
                                       open_pull_request,
                                       proposing,
)

__all__ = ["PullRequestSettings", "check_branch", "covered_on_main", "draft_picks", "in_git_repo", "merged_picks",
           "merged_readmes", "open_pull_request", "proposing"]
