# Offline settings every entry point uses (sourced by the scripts; the CLI sets them too).
export HF_HUB_OFFLINE=1
export HF_HUB_DISABLE_PROGRESS_BARS=1
export GRADIO_ANALYTICS_ENABLED=False
export TOKENIZERS_PARALLELISM=false
export TRANSFORMERS_VERBOSITY=error
export OPENBLAS_NUM_THREADS=1
