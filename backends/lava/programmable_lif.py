"""``ProgrammableLIF``: a Lava process for Loihi 2's programmable neurons, and its model.


Lava 0.10.0's LIF resets v to 0 and compares with ``>``. Loihi 2 runs neuron microcode, so
snnc's ``loihi.lif`` may also ask for the ``>=`` comparator and a subtract (soft) reset:
immediate (``v -= vth << 6`` on a spike) or delayed (``decay_reset = False``: snnTorch's
``reset_delay``; the spike subtracts ``vth << 6`` from the next step's sum, undecayed). This
process is Lava's LIF plus those three settings, an initial potential ``v_init`` (v at the start
and after every periodic reset; OPI and QCFS conversions start at half the threshold) and an
optional periodic reset (LIFReset), and
its model is Lava's own bit-accurate LIF arithmetic (``AbstractPyLifModelFixed``: 24-bit u with
one wrap, 24-bit clipped v, decays truncated toward zero) with the new comparator and resets:

    v = clip(decay(v) + u + bias - r * (vth << 6))   (r: last step's spikes, delayed reset only)
    s = v > vth << 6   or   v >= vth << 6
    v[s] = 0 (hard)  |  v[s] -= vth << 6 (subtract)  |  r = s (delayed subtract)

The same arithmetic, written independently, is the reference kernel (simulators/kernels_loihi.py)
and the event simulator's (simulators/event/prog_lif.py); tests/lava compares them in Lava.
Lava finds a process's models in the module that defines it, so both live here.
Import only after ``_env.require_lava()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed
from lava.proc.lif.process import LIF

RESETS = {"hard": 0, "subtract": 1, "subtract-delayed": 2}


class ProgrammableLIF(LIF):
    """Lava's LIF with ``comparator`` ('>' / '>='), ``reset`` ('hard', 'subtract',
    'subtract-delayed') and a periodic reset of u, v (and r) when ``reset_interval`` > 0."""

    def __init__(self, *, comparator: str = ">", reset: str = "hard", reset_interval: int = 0,
                 reset_offset: int = 0, v_init: Any = 0, **kwargs: Any) -> None:
        if comparator not in (">", ">=") or reset not in RESETS:
            raise ValueError(f"comparator {comparator!r} / reset {reset!r} not supported")
        super().__init__(v=v_init, **kwargs)
        self.r = Var(shape=self.v.shape, init=0)  # last step's spikes (delayed subtract)
        self.v_init = Var(shape=self.v.shape, init=v_init)  # v after every periodic reset
        self.proc_params["comparator"] = comparator
        self.proc_params["reset"] = reset
        self.proc_params["reset_interval"] = int(reset_interval)
        self.proc_params["reset_offset"] = int(reset_offset) % max(int(reset_interval), 1)


@implements(proc=ProgrammableLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyProgrammableLifModelFixed(AbstractPyLifModelFixed):
    """Lava's bit-accurate LIF step with the process's comparator and reset."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)
    r: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=1)
    v_init: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=24)

    def __init__(self, proc_params: Any) -> None:
        super().__init__(proc_params)
        self.effective_vth = 0
        self.ge = proc_params["comparator"] == ">="
        self.mode = RESETS[proc_params["reset"]]
        self.interval = proc_params["reset_interval"]
        self.offset = proc_params["reset_offset"]

    def scale_threshold(self) -> None:
        self.effective_vth = np.left_shift(self.vth, self.vth_shift)
        self.isthrscaled = True

    def scale_bias(self) -> None:
        # the delayed subtraction enters the voltage sum with the bias, before the clip
        super().scale_bias()
        if self.mode == 2:
            self.effective_bias = self.effective_bias - self.r * np.left_shift(
                self.vth, self.vth_shift)

    def spiking_activation(self) -> np.ndarray:
        return self.v >= self.effective_vth if self.ge else self.v > self.effective_vth

    def reset_voltage(self, spike_vector: np.ndarray) -> None:
        if self.mode == 0:
            self.v[spike_vector] = 0
        elif self.mode == 1:  # vth may be per neuron (full shape) or one value
            self.v[:] = np.where(spike_vector, self.v - self.effective_vth, self.v)
        else:
            self.r[:] = spike_vector

    def run_spk(self) -> None:
        a_in_data = self.a_in.recv()
        if self.interval > 0 and self.time_step % self.interval == self.offset:
            self.u *= 0
            self.v[:] = self.v_init
            self.r *= 0
        self.scale_bias()
        if not self.isthrscaled:
            self.scale_threshold()
        self.subthr_dynamics(activation_in=a_in_data)
        s_out = self.spiking_activation()
        self.reset_voltage(spike_vector=s_out)
        self.s_out.send(s_out)
