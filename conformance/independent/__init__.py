"""Independent implementations of the optimizers Keras exports: `torch.optim` and `optax`.

Each library module holds an explicit mapping table (Keras optimizer -> constructor and
arguments, see `mapping.Target`), the Keras optimizers it has no counterpart for and why, and a
float64 runner; `check` compares a Keras optimizer with its counterpart over k steps.
"""
