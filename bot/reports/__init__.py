"""Files people read: the forms, workbooks and charts of the campaign plans."""
