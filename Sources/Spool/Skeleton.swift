// Skeleton: replaced as the module is built.
