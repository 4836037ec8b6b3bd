"""The site shell: the root URLconf, the error pages, the middleware every page goes through, the page shell
(base.html), and the commands that run or judge the whole site (`serve`, `eval`). It sits above every other app:
it may import any of them, none imports it."""
