"""A signal component shipped by another package through the durationbt.components entry
point."""

import pandas as pd

from durationbt.signals import ComponentData, component


@component("bill_level", summary="high bill yields make waiting in cash attractive",
           reads="the 13-week bill yield ^IRX (percent), as a level", tickers=("^IRX",))
def bill_level(data: ComponentData) -> pd.Series:
    return data.market("^IRX")
