"""`python -m tests.fakecloud.mlflow_tables <file>`: an SQLite database with MLflow's tables at
their newest migration and no rows, what a tracking server creates on an empty database before
it adds its Default experiment (mlflow/store/db/utils.py `_initialize_tables`)."""

import sys

import sqlalchemy
from mlflow.store.db.utils import _initialize_tables

engine = sqlalchemy.create_engine(f"sqlite:///{sys.argv[1]}")
_initialize_tables(engine)
engine.dispose()
