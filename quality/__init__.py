"""Quality checks of restored speech: ASR and CER, predicted MOS, filter rules, reports."""
