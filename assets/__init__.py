"""Asset management core: condition grading by the Chinese highway standards, lifecycle
states, Markov deterioration, budgeted maintenance planning, synthetic history.

Modules: :mod:`assets.bridge_condition` (JTG/T H21-2011), :mod:`assets.tunnel_condition`
(JTG H12-2015, unverified tables), :mod:`assets.pavement` (JTG 5210-2018 MQI),
:mod:`assets.lifecycle`, :mod:`assets.markov`, :mod:`assets.planning`,
:mod:`assets.history`. Pure: no database, no ``twin`` import.
"""

from assets.errors import GradingError

__all__ = ["GradingError"]
