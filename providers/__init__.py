"""Dynamic providers and the toolkit they share.

The provider objects are pickled with dill into every resource's state, by reference to their module path
and class name: a module here, once released, keeps its path and its class names (renaming one breaks
``pulumi refresh`` and ``pulumi destroy`` of existing stacks).

Toolkit:
- :mod:`providers.clients`: one factory for the EAS, DLC, DSW, CloudMonitor and OSS clients (credentials from
  ``configure()`` config or the environment, endpoint overrides for the local emulator, timeouts);
- :mod:`providers.retry`: the one retry policy (throttling, 5xx and transport errors; never validation errors);
- :mod:`providers.waiting`: deadlines and the poll loop every wait goes through, with progress on stderr.
"""
