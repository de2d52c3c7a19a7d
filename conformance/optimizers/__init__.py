"""The built-in optimizers' specs: one module per Keras optimizer, each holding its `SPEC`.

A record is the one home of what the suite knows about that optimizer (its hyperparameters and
argument domains, its reference rule, its torch.optim and optax counterparts, its family, its
numpy benchmark step); the tables the claims used to read (`reference.MODULES`,
`hyperparameters.HYPERPARAMETERS`, ...) are views of these records.

The record modules import the building blocks they share (strategies, domains, reference rules,
mapping targets, numpy steps); none of those imports this package: they find a spec through
`conformance.inputs.registry`, which loads these modules by name.
"""
