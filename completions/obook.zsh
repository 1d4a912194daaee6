#compdef obook

_obook_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _OBOOK_COMPLETE=complete_zsh obook)
}

compdef _obook_completion obook
if [[ "${funcstack[1]}" == "_obook" ]]; then _obook_completion "$@"; fi
