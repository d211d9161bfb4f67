"""Scoring Dask and Spark DataFrames with one verified onnxruntime session per worker process.

The engines (dask, pyspark, pyarrow, pandas) are imported inside the functions that use them only:
neither `import edge_predict` nor importing this package loads them. The modules, by job:
- worker: the model as it travels to the workers, and each worker process's one session for it.
- table: the checks before a job starts, and the scoring of one partition's rows (the keep-going loop).
- dask_engine, spark_engine: score_dask and score_spark, adapting those to each engine's frames.
"""

from edge_predict.distributed.dask_engine import score_dask
from edge_predict.distributed.spark_engine import score_spark
from edge_predict.distributed.table import ERROR_COLUMN, ON_ERROR, output_columns

__all__ = ["score_dask", "score_spark", "output_columns", "ERROR_COLUMN", "ON_ERROR"]
