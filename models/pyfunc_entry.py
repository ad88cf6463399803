"""The file MLflow runs to rebuild the pyfunc model ("models from code"); never imported.

Logging the model from this file instead of from a Python object keeps the saved model free of
pickles: loading runs these lines, and the state comes from the `predictor` artifact folder.
"""

from mlflow.models import set_model

from models.predictor import CxPyfuncModel

set_model(CxPyfuncModel())
