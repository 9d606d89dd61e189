cpdef list send_to_all(list transports, bytes frame, Py_ssize_t write_buffer_limit)
